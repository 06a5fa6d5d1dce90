"""Transports that bring files to StockGate: the embedded FTP server, SFTP pollers and watched folders.

Each hands a complete file to `gateway.intake.receive_file` and acknowledges its sender only afterwards.
"""
