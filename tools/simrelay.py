# The simulator's RS485 line: a raw pty whose master side the relay reads, cutting frames at line silence, and
# writes replies to no earlier than t3.5 after the request's last byte. One line may serve several meters (bus).
import os
import select
import termios
import threading
import time
import tty

FRAME_GAP = 0.004  # s of line silence that ends a Modbus frame on the pty (stands in for t3.5, see docs/sim.md)
BAUD = 9600  # the line's configured baud rate: only the reply hold (t3.5) depends on it; a pty has no rate


def t35(baud, bits=11):
    """t3.5 in seconds for `bits` per character (Serial Line v1.02 sec. 2.5.1.1: 1.75 ms above 19200 baud)."""
    return 0.00175 if baud > 19200 else 3.5 * bits / baud


def owner_lock(path):
    """(file, None) holding an exclusive flock on `path` (created), or (None, the pid written by the process that
    holds it). The lock lasts while the file stays open: a killed owner frees it. OSError if path cannot be made."""
    import fcntl

    f = open(path, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        owner = f.read().strip() or "?"
        f.close()
        return None, owner
    return f, None


def stamp_owner(f):
    """Write this process's pid into a lock file from owner_lock (what a refused claimant reports)."""
    f.seek(0)
    f.truncate()
    f.write("%d\n" % os.getpid())
    f.flush()


class PtyLine:
    """open() -> pty path; start(on_frame) runs the relay (on_frame(bytes) per request); write(reply); close()."""

    def __init__(self, link=None, frame_gap=FRAME_GAP, baud=BAUD):
        self.link = link
        self.frame_gap = frame_gap
        self.hold = t35(baud)
        self.path = None
        self.master = self.slave = None
        self.stats = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "dropped_out": 0, "held": 0, "collisions": 0}
        self.last_rx = 0.0  # monotonic time of the last request byte read
        self._replies = 0  # replies written since the last request: a second one would have collided on RS485
        self._wlock = threading.Lock()  # one reply on the wire at a time
        self.stopping = False
        self.thread = None
        self.on_frame = None

    def set_baud(self, baud, bits=11):
        self.hold = t35(baud, bits)

    def open(self):
        """Open the pty (and make the link to it). RuntimeError when the link belongs to a running simulator or
        its path is taken by something that is not a symlink."""
        if self.link:
            self._claim_link()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # binary frames pass intact: no echo, no CR/LF translation
        os.set_blocking(self.master, False)  # a master nobody reads from must not stall replies
        self.path = os.ttyname(self.slave)
        if self.link:
            os.symlink(self.path, self.link)
        return self.path

    def _claim_link(self):
        """One simulator per link: flock on .NAME.lock beside the link (with the owner's pid), held until close().
        A link whose lock is free was left by a run that was killed: it is replaced."""
        d, name = os.path.split(os.path.abspath(self.link))
        path = os.path.join(d, "." + name + ".lock")
        while True:
            try:
                f, owner = owner_lock(path)
            except OSError as e:
                raise RuntimeError("cannot make the link %s: %s" % (self.link, e))
            if f is None:
                raise RuntimeError("%s is the line of another simulated meter (pid %s): stop it, or give this one "
                                   "another --serial-link (none: no link)" % (self.link, owner))
            try:  # the owner before us may have removed the file between our open and our lock: lock the new one
                st, fs = os.stat(path), os.fstat(f.fileno())
                if (st.st_dev, st.st_ino) == (fs.st_dev, fs.st_ino):
                    break
            except FileNotFoundError:
                pass
            f.close()
        if os.path.lexists(self.link):
            if not os.path.islink(self.link):
                f.close()
                raise RuntimeError("%s exists and is not a symlink: not replaced (give another --serial-link)"
                                   % self.link)
            os.remove(self.link)  # stale: its simulator was killed
        stamp_owner(f)
        self._link_lock = (f, path)

    def start(self, on_frame):
        self.on_frame = on_frame
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        if self.thread is not None:
            self.thread.join(1.0)  # the relay must be out of select/read before its fds close
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == self.path:
            os.remove(self.link)
        lock = getattr(self, "_link_lock", None)
        if lock is not None:  # removed while still held: a waiting claimant re-checks the path (see _claim_link)
            self._link_lock = None
            try:
                os.remove(lock[1])
            except OSError:
                pass
            lock[0].close()
        for fd in (self.master, self.slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.slave = None

    def write(self, data):
        """Put a reply on the line, once t3.5 has passed since the request's last byte (Serial Line sec. 2.5.1.1).
        Called from any meter's reader thread: replies are serialised, and a second reply to one request is
        counted as a collision (on RS485 the two would have garbled each other)."""
        with self._wlock:
            wait = self.last_rx + self.hold - time.monotonic()
            if wait > 0:
                self.stats["held"] += 1
                time.sleep(wait)
            self._replies += 1
            if self._replies > 1:
                self.stats["collisions"] += 1
            try:
                os.write(self.master, data)
                self.stats["frames_out"] += 1
            except (BlockingIOError, OSError, TypeError):
                self.stats["dropped_out"] += 1  # nobody reading the line: the bytes are lost, as on RS485

    def _relay(self):
        buf = bytearray()
        while not self.stopping and self.master is not None:
            try:
                ready = select.select([self.master], [], [], self.frame_gap if buf else 0.2)[0]
            except (OSError, ValueError):
                return
            if not ready:
                if buf:  # the line went quiet: the frame is complete
                    self.stats["frames_in"] += 1
                    with self._wlock:
                        self._replies = 0
                    self.on_frame(bytes(buf))
                    buf = bytearray()
                continue
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                time.sleep(0.05)  # EIO: no reader/writer on the slave side right now
                continue
            self.last_rx = time.monotonic()
            if not buf and self.slave is not None:
                # a new request: drop any reply the master never read (it timed out), as a master's flush would
                termios.tcflush(self.slave, termios.TCIFLUSH)
            buf += data
            self.stats["bytes_in"] += len(data)
