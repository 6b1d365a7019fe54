"""A clock tests move by hand (breakers, caches, miss-log days)."""


class Ticks:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now
