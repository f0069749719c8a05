"""Per-thread stdout routing for in-process Lambdas."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from mwaa_cp_local import streams
from mwaa_cp_local.streams import ThreadRoutedStream


@pytest.fixture
def fallback() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def router(fallback: io.StringIO) -> ThreadRoutedStream:
    return ThreadRoutedStream(fallback)


@pytest.fixture
def restore_stdout() -> Iterator[None]:
    original = sys.stdout
    try:
        yield
    finally:
        streams.uninstall()
        sys.stdout = original


def test_without_a_capture_text_goes_to_the_fallback(router: ThreadRoutedStream, fallback: io.StringIO) -> None:
    router.write("progress\n")

    assert fallback.getvalue() == "progress\n"


def test_inside_a_capture_text_goes_to_the_capture_buffer_only(
    router: ThreadRoutedStream, fallback: io.StringIO
) -> None:
    with router.capture() as buffer:
        router.write("function log\n")

    assert buffer.getvalue() == "function log\n"
    assert fallback.getvalue() == ""


def test_after_a_capture_text_goes_to_the_fallback_again(router: ThreadRoutedStream, fallback: io.StringIO) -> None:
    with router.capture():
        pass

    router.write("after\n")

    assert fallback.getvalue() == "after\n"


def test_a_capture_in_one_thread_does_not_catch_another_threads_output(
    router: ThreadRoutedStream, fallback: io.StringIO
) -> None:
    with router.capture() as buffer:
        router.write("from the function\n")
        other = threading.Thread(target=router.write, args=("from the CLI\n",))
        other.start()
        other.join()

    assert buffer.getvalue() == "from the function\n"
    assert fallback.getvalue() == "from the CLI\n"


def test_two_threads_capture_into_their_own_buffers(router: ThreadRoutedStream) -> None:
    buffers: dict[str, str] = {}
    both_capturing = threading.Barrier(2)

    def run(name: str) -> None:
        with router.capture() as buffer:
            both_capturing.wait(timeout=5)
            router.write(f"{name}\n")
            both_capturing.wait(timeout=5)
        buffers[name] = buffer.getvalue()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert buffers == {"first": "first\n", "second": "second\n"}


def test_a_nested_capture_restores_the_outer_buffer(router: ThreadRoutedStream) -> None:
    with router.capture() as outer:
        router.write("outer 1\n")
        with router.capture() as inner:
            router.write("inner\n")
        router.write("outer 2\n")

    assert outer.getvalue() == "outer 1\nouter 2\n"
    assert inner.getvalue() == "inner\n"


def test_the_router_reports_the_fallbacks_encoding() -> None:
    fallback = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")

    assert ThreadRoutedStream(fallback).encoding == "latin-1"


def test_install_routes_sys_stdout_through_the_router(restore_stdout: None) -> None:
    original = sys.stdout

    router = streams.install()

    assert sys.stdout is router
    assert router.fallback is original


def test_install_twice_keeps_one_router(restore_stdout: None) -> None:
    first = streams.install()

    assert streams.install() is first


def test_uninstall_restores_sys_stdout(restore_stdout: None) -> None:
    original = sys.stdout
    streams.install()

    streams.uninstall()

    assert sys.stdout is original


def test_uninstall_without_install_leaves_sys_stdout_alone(restore_stdout: None) -> None:
    original = sys.stdout

    streams.uninstall()

    assert sys.stdout is original


def test_print_inside_a_capture_of_the_installed_router_is_captured(
    restore_stdout: None, capsys: pytest.CaptureFixture[str]
) -> None:
    router = streams.install()

    with router.capture() as buffer:
        print("handler output")

    streams.uninstall()
    assert buffer.getvalue() == "handler output\n"
    assert capsys.readouterr().out == ""


def test_a_logging_handler_bound_to_stdout_follows_install_and_uninstall(restore_stdout: None) -> None:
    original = sys.stdout
    logger = logging.getLogger("tests.unit.local.test_streams.bound-early")
    handler = logging.StreamHandler(original)
    logger.addHandler(handler)
    try:
        router = streams.install()
        routed_to = handler.stream
        streams.uninstall()

        assert routed_to is router
        assert handler.stream is original
    finally:
        logger.removeHandler(handler)
