"""Transports that bring files to StockGate: the embedded FTP server (`ftp/`), SFTP pollers and watched
folders (`sources/`), and the rule they share for when a file is complete (`stability`).

Each hands a complete file to `gateway.intake.receive_file` and acknowledges its sender only afterwards.
"""
