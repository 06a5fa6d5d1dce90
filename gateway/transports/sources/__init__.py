"""Sources StockGate fetches files from: SFTP servers it polls and local folders it watches, run on their
schedules by `runner`, each file picked up exactly once by `pickup`.
"""
