"""SIGTERM as a request: training ends after its current compiled call, checkpointed, instead of
dying mid-step."""

import contextlib
import signal
import threading


@contextlib.contextmanager
def sigterm_requests():
    """Yields ``received()``: whether SIGTERM arrived, so training ends after its current compiled
    call.

    Only the main thread can set signal handlers; elsewhere SIGTERM keeps its usual effect.
    """
    received = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield received.is_set
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.set())
    try:
        yield received.is_set
    finally:
        signal.signal(signal.SIGTERM, previous)
