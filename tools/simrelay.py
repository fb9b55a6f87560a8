# SPDX-License-Identifier: MIT
# The simulator's RS485 line: a raw pty whose master side the relay reads, cutting frames at line silence, and
# writes replies to no earlier than t3.5 after the request's last byte. One line may serve several meters (bus).
# It behaves like a wire (docs/sim.md, "The line"): a reply reaches only the master that sent the request (not one
# that went away, nor the next one), never after a newer request, garbled when two meters answer at once, and read
# through the bit-level model of tools/wire.py when the master's termios and the meter's settings differ.
import ctypes
import os
import select
import struct
import termios
import threading
import time
import tty

from tools import wire

FRAME_GAP = 0.004  # s of line silence that ends a Modbus frame on the pty (stands in for t3.5, see docs/sim.md)
BAUD = 9600  # the line's format until a meter reports its own: the pty's settings at start, and the reply hold
COLLISION_SKEW = 1.3  # bit times between two replies that collide (they never start in the same microsecond)
_IN_MODIFY, _IN_OPEN, _IN_CLOSE, _IN_Q_OVERFLOW = 0x02, 0x20, 0x08 | 0x10, 0x4000
_KEEP = 64  # requests remembered for their replies


def t35(baud, bits=11):
    """t3.5 in seconds for `bits` per character (Serial Line v1.02 sec. 2.5.1.1: 1.75 ms above 19200 baud)."""
    return 0.00175 if baud > 19200 else 3.5 * bits / baud


def _inotify(path):
    """An inotify fd watching path for opens, writes and closes (Linux), or None: then the line cannot tell when a master
    goes away and delivers every reply to the newest request (docs/sim.md)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            return None
        if libc.inotify_add_watch(fd, path.encode(), _IN_MODIFY | _IN_OPEN | _IN_CLOSE) < 0:
            os.close(fd)
            return None
        return fd
    except (OSError, AttributeError):
        return None


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
    """open() -> pty path; start(on_frame) runs the relay (on_frame(bytes) per request, with rx_seq and rx_fmt
    describing it); write(reply, seq, fmt) per meter and request; close().

    voters: how many meters hear the line. Each one answers every request exactly once through write() (b"" for
    silence), so the line knows when all have spoken and whether two replies collided; with one voter a reply
    goes out at once and silence needs no write."""

    def __init__(self, link=None, frame_gap=FRAME_GAP, baud=BAUD, voters=1):
        self.link = link
        self.frame_gap = frame_gap
        self.fmt = wire.Format(baud)  # the pty's settings at open(); the format of replies that name none
        self.voters = voters
        self.path = None
        self.master = self.slave = None
        self.stats = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "dropped_out": 0, "held": 0, "collisions": 0,
                      "late": 0, "unheard": 0, "garbled": 0, "opens": 0, "closes": 0}
        self.last_rx = 0.0  # monotonic time of the last request byte read
        self.rx_seq = 0  # the newest request: numbered at its first byte
        self.rx_fmt = self.fmt  # the master's format when the newest request was complete (tools/wire.py)
        self.users = None  # processes holding the pty open besides the launcher (None: not known, no inotify)
        self.epoch = 0  # closes of the pty seen so far: a request's sender went away when it moved on
        self._notify = None
        self._buf = bytearray()
        self._frames = {}  # seq -> [epoch at its first byte, replies [(bytes, fmt)], answers so far, sent]
        self._lock = threading.RLock()  # the request side: bytes, frames, users, epoch
        self._wlock = threading.Lock()  # one reply on the wire at a time
        self.stopping = False
        self.thread = None
        self.on_frame = None

    def open(self):
        """Open the pty (and make the link to it). RuntimeError when the link belongs to a running simulator or
        its path is taken by something that is not a symlink. The launcher keeps the slave open (the pty lives
        as long as the line) and watches who else opens and closes it."""
        if self.link:
            self._claim_link()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # binary frames pass intact: no echo, no CR/LF translation
        self._set_pty()
        os.set_blocking(self.master, False)  # a master nobody reads from must not stall replies
        self.path = os.ttyname(self.slave)
        self._notify = _inotify(self.path)
        if self._notify is not None:
            self.users = 0
        if self.link:
            os.symlink(self.path, self.link)
        return self.path

    def configure(self, fmt):
        """The line's own settings: the meter's, which tools/sim.py passes at start-up, before any master: the pty
        starts at them, so a master that sets no termios (a plain open) talks at the meter's settings. From then on
        the pty keeps what the last master set, as a real serial port does (a plain open after a master at
        19200 baud talks at 19200)."""
        with self._lock:
            self.fmt = fmt
            self._set_pty()

    def _set_pty(self):
        if self.slave is not None:
            try:
                wire.set_termios(self.slave, self.fmt)
            except (termios.error, OSError):
                pass

    def master_format(self, receive=False):
        """The format the master application set on the pty (tcgetattr of the master returns the slave's)."""
        try:
            attr = termios.tcgetattr(self.master)
        except (termios.error, TypeError, OSError):
            return self.fmt, 0
        return wire.from_termios(attr, self.master, receive), attr[0]

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
        for fd in (self.master, self.slave, self._notify):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.slave = self._notify = None

    # --- the request side: bytes and who holds the pty, in the order they happened ------------------------------
    def _pull(self):
        """Take in who opened, wrote to and closed the pty, then the bytes written (under _lock). The watch sees
        every write (IN_MODIFY) in order with the opens and closes, so a request belongs to the epoch in which
        its first byte was written: one written before its master closed stays that master's, one written by
        the next master after it opened is the next one's, however late the relay reads them."""
        events = b""
        if self._notify is not None:
            try:
                events = os.read(self._notify, 4096)
            except (BlockingIOError, InterruptedError, OSError):
                pass
        written = None  # the epoch of the first write among these events
        i = 0
        while i + 16 <= len(events):
            _wd, mask, _cookie, n = struct.unpack_from("iIII", events, i)
            i += 16 + n
            if mask & _IN_MODIFY and written is None:
                written = self.epoch
            if mask & _IN_OPEN:
                self.stats["opens"] += 1
                if self.users is not None:
                    self.users += 1
                    if self.users == 1:
                        self._flush()  # whatever waits in the pty's input was sent while nobody listened
            if mask & (_IN_CLOSE | _IN_Q_OVERFLOW):
                self.stats["closes"] += 1
                self.users = max(0, self.users - 1) if mask & _IN_CLOSE and self.users is not None else None
                self.epoch += 1  # every request so far came from masters that may be gone
                self._flush()  # a real port's driver discards what its last reader left unread
        while self.master is not None:
            try:
                data = os.read(self.master, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # EIO: nobody holds the slave (cannot happen while the launcher keeps it open)
            if not data:
                break
            if not self._buf:
                # its write's event was read now, or it comes with the next read: then it is of the epoch now
                self.rx_seq += 1
                self._frames[self.rx_seq] = [self.epoch if written is None else written, [], 0, False]
                self._frames.pop(self.rx_seq - _KEEP, None)
            self._buf += data
            self.last_rx = time.monotonic()
            self.stats["bytes_in"] += len(data)

    def _flush(self):
        try:
            termios.tcflush(self.slave, termios.TCIFLUSH)  # the slave's input: replies nobody read
        except (termios.error, TypeError, OSError):
            pass

    def _complete(self):
        """The request in _buf as (bytes, seq) once the line has been quiet for frame_gap, else None."""
        if not self._buf or time.monotonic() - self.last_rx < self.frame_gap:
            return None
        frame = bytes(self._buf)
        self._buf = bytearray()
        self.rx_fmt = self.master_format()[0]
        self.stats["frames_in"] += 1
        return frame

    def _relay(self):
        while not self.stopping and self.master is not None:
            with self._lock:
                wait = self.last_rx + self.frame_gap - time.monotonic() if self._buf else 0.2
            fds = [self.master] + ([self._notify] if self._notify is not None else [])
            try:
                select.select(fds, [], [], max(wait, 0.0005))
            except (OSError, ValueError):
                return
            with self._lock:
                self._pull()
                frame = self._complete()
            if frame is not None:
                self.on_frame(frame)  # the callee reads rx_seq and rx_fmt: the relay thread is the only writer

    # --- the reply side -------------------------------------------------------------------------------------
    def write(self, data, seq=None, fmt=None):
        """One meter's answer to request seq (default: the newest): its reply bytes, or b"" for silence, sent in
        fmt (the meter's UART settings; default the line's). The line puts a reply on the pty once every voter
        answered, no earlier than t3.5 after the request (Serial Line sec. 2.5.1.1), and only if it would reach
        the master that asked: not after a newer request (late), not when that master closed the pty or nobody
        holds it (unheard). Two replies to one request collide: the master reads what the two drivers make of
        the line together (garbage). A master whose settings differ from fmt reads what tools/wire.py makes of
        it (garbled)."""
        with self._wlock:
            with self._lock:
                self._pull()
                seq = self.rx_seq if seq is None else seq
                rec = self._frames.get(seq)
                if rec is None:  # long gone (or no request at all)
                    self.stats["late"] += bool(data)
                    return
                if data:
                    rec[1].append((bytes(data), fmt or self.fmt))
                rec[2] += 1
                if rec[3] or rec[2] < self.voters:
                    if rec[3] and data:
                        self.stats["collisions"] += 1  # after one was sent: on a wire both would be garbage
                    return
                rec[3] = True
                replies = rec[1]
                if not replies:
                    return
                if len(replies) > 1:
                    self.stats["collisions"] += len(replies) - 1
                hold = max(t35(f.baud, f.char_bits()) for _, f in replies)
            wait = self.last_rx + hold - time.monotonic()
            if wait > 0:
                self.stats["held"] += 1
                time.sleep(wait)
            with self._lock:
                self._pull()  # a close or a new request while the reply was held
                if seq != self.rx_seq:
                    self.stats["late"] += 1  # a newer request is on the line: on a wire the two would collide
                    return
                if self.users == 0 or rec[0] != self.epoch:
                    self.stats["unheard"] += 1  # the master that asked has gone: nobody reads these bytes
                    return
                mfmt, iflag = self.master_format(receive=True)
                if len(replies) == 1 and mfmt.same_reading(replies[0][1]):
                    out = replies[0][0]
                else:
                    out = wire.master_reads([(d, f, COLLISION_SKEW * k) for k, (d, f) in enumerate(replies)],
                                            mfmt, iflag)
                    self.stats["garbled"] += 1
                if not out:
                    return
                self.stats["frames_out"] += 1  # before the write: a master may read it and ask at once
                try:
                    os.write(self.master, out)
                except (BlockingIOError, OSError, TypeError):
                    self.stats["frames_out"] -= 1
                    self.stats["dropped_out"] += 1  # the pty's buffer is full: the bytes are lost, as on RS485
