"""The scheduler process: `python scheduler.py` (see newsticker.scheduling)."""

from newsticker.scheduling import main

if __name__ == "__main__":
    raise SystemExit(main())
