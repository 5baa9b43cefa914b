"""The bundle's program: the command line and the app, as ``latent-explorer`` is in a venv."""
import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()  # t-SNE's child process and the decoding workers start this program again
    from explorer.cli import main

    raise SystemExit(main())
