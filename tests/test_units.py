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
