"""Write docs/parameters.md (the platform YAML reference) from the schema."""

from pathlib import Path

from tlmsim.platform import Platform
from tlmsim.platform.reference import markdown

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
    out.write_text(markdown(Platform, "Platform YAML reference"))
    print(f"wrote {out}")
