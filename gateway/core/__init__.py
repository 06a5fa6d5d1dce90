"""The pure domain core: plain values and functions, standard library only (a test enforces it)."""
