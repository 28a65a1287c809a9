"""Write docs/parameters.md (units; the platform, workload, sweep and search file references) from the schemas."""

from pathlib import Path

from tlmsim.paramdocs import document

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
    out.write_text(document())
    print(f"wrote {out}")
