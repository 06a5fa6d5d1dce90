"""Transports that bring files to StockGate: the embedded FTP server (`ftp/`), SFTP pollers and watched
folders (`sources/`); when a file is complete is `channels.stability`, shared with the feed adapter.

Each hands a complete file to `gateway.intake.receive_file` and acknowledges its sender only afterwards.
"""
