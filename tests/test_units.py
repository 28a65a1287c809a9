import pytest

from tlmsim.units import parse_bytes, parse_freq_mhz, parse_time_ps, period_ps


@pytest.mark.parametrize(
    "text,expected",
    [("64KiB", 65536), ("2MB", 2_000_000), ("1 GiB", 1 << 30), ("512", 512), ("0.5KiB", 512), (4096, 4096)],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["64 KiBB", "lots", "0.3B", "-4KiB"])
def test_parse_bytes_rejects(text):
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_parse_time_exact_picoseconds():
    assert parse_time_ps("13.75ns") == 13750
    assert parse_time_ps("0.63ns") == 630
    assert parse_time_ps("2us") == 2_000_000
    with pytest.raises(ValueError, match="with a unit"):
        parse_time_ps("13")
    with pytest.raises(ValueError, match="whole number"):
        parse_time_ps("0.0001ps")


def test_freq_and_period():
    assert parse_freq_mhz("1GHz") == 1000.0
    assert parse_freq_mhz("500MHz") == 500.0
    assert period_ps(500.0) == 2000
    assert period_ps(1000.0) == 1000
    assert period_ps(200.0) == 5000


def test_kb_is_decimal_and_kib_binary():
    assert parse_bytes("512KB") == 512_000 and parse_bytes("512kb") == 512_000
    assert parse_bytes("512KiB") == 524_288 and parse_bytes("1MiB") == 1_048_576 and parse_bytes("1MB") == 1_000_000


def test_sizes_and_times_written_back_with_units():
    from tlmsim.units import format_bytes, format_time_ps

    assert [format_bytes(n) for n in (524_288, 65536, 1 << 20, 3 << 30, 1000, 1536)] == [
        "512KiB", "64KiB", "1MiB", "3GiB", "1000B", "1536B"]
    assert [format_time_ps(p) for p in (13750, 630, 2_000_000, 1000)] == ["13.75ns", "630ps", "2us", "1ns"]
    for n in (524_288, 1000, 1536, 7 << 30):
        assert parse_bytes(format_bytes(n)) == n
    for p in (13750, 630, 2_000_000, 123_456_789):
        assert parse_time_ps(format_time_ps(p)) == p
