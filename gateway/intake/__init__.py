"""The intake: every transport hands a received file to `receive_file`, which spools it durably and records
it as `received` before the sender is acknowledged (`receive`); the spool and its copy helpers (`spool`).
"""

from gateway.intake.receive import Delivery, receive_bytes, receive_file
from gateway.intake.spool import copy_to_new_file, new_file_id, spool_dir

__all__ = ["Delivery", "copy_to_new_file", "new_file_id", "receive_bytes", "receive_file", "spool_dir"]
