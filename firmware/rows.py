# SPDX-License-Identifier: MIT
# A table whose rows are made one at a time when asked for: len(), [k], [a:b], iteration and name(k) like a
# tuple of rows, but nothing is built at import (a tuple made by code lives in RAM even in a frozen module).


class Rows:
    """n rows; make(k) returns row k (a tuple); name(k), when given, returns row k's name without building the
    rest of the row; guess(name), when given, returns the row a name would be (or -1), so find() need not make
    every name in turn (lookups by name on the device)."""

    def __init__(self, n, make, name=None, guess=None):
        self.n = n
        self.make = make
        self._name = name
        self._guess = guess

    def __len__(self):
        return self.n

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self.make(i) for i in range(*k.indices(self.n)))
        if k < 0:
            k += self.n
        if k < 0 or k >= self.n:
            raise IndexError(k)
        return self.make(k)

    def name(self, k):
        return self._name(k) if self._name is not None else self.make(k)[0]

    def find(self, name):
        """Row number of `name`, or -1 (a guess checked against name(k), else a linear search: not for hot
        paths)."""
        if self._guess is not None:
            k = self._guess(name)
            return k if 0 <= k < self.n and self.name(k) == name else -1
        for k in range(self.n):
            if self.name(k) == name:
                return k
        return -1
