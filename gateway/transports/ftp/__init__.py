"""The embedded FTP/FTPS server: `server` builds it from pyftpdlib's classes, the other modules are its parts
(logins and homes, sessions, the control handler, data connections, the inbox, the template folder).
"""
