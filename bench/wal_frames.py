#!/usr/bin/env python3
"""Which tables and indexes each SQLite group commit rewrites: WAL frames per commit, by b-tree.

A commit writes every page it touched to the WAL once, however little of the page changed, so a b-tree whose
new keys land on many pages (random ids, say) costs a frame per page per commit. This reads the frame headers
of a WAL file (copy it while the server runs: the server reuses the file from its start after each checkpoint)
and names each frame's page from the database's `dbstat` table.

    cp "$OSPREY_HOME/osprey.db-wal" /tmp/wal.copy        # while api_bench runs
    bench/wal_frames.py "$OSPREY_HOME/osprey.db" /tmp/wal.copy [--commits 100] [--top 15]

The database is read after the copy was taken, so pages freed and reused since may be misnamed; run it soon
after. Standard library only.
"""
import argparse
import collections
import sqlite3
import struct
import sys

WAL_HEADER = struct.Struct(">IIIIIIII")  # magic, version, page size, checkpoint, salt-1, salt-2, checksums
FRAME_HEADER = struct.Struct(">IIII")    # page number, database size after a commit (0 otherwise), salts


def read_frames(path):
    """The page number of each valid frame, in order, and the indexes of the frames that end a commit."""
    pages, commit_ends = [], []
    with open(path, "rb") as f:
        header = f.read(WAL_HEADER.size)
        if len(header) < WAL_HEADER.size:
            sys.exit(f"wal_frames: {path} is not a WAL file (too short)")
        _, _, page_size, _, salt1, salt2, _, _ = WAL_HEADER.unpack(header)
        frame_size = 24 + page_size
        index = 0
        while True:
            f.seek(WAL_HEADER.size + index * frame_size)
            raw = f.read(FRAME_HEADER.size)
            if len(raw) < FRAME_HEADER.size:
                break
            page, size_after_commit, s1, s2 = FRAME_HEADER.unpack(raw)
            if (s1, s2) != (salt1, salt2):  # a frame from before the last restart of the WAL
                break
            pages.append(page)
            if size_after_commit:
                commit_ends.append(index)
            index += 1
    return pages, commit_ends


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("wal_copy")
    parser.add_argument("--commits", type=int, default=100, help="the last N commits in the copy (default 100)")
    parser.add_argument("--top", type=int, default=15, help="b-trees to list (default 15)")
    args = parser.parse_args()

    pages, commit_ends = read_frames(args.wal_copy)
    if len(commit_ends) < 2:
        sys.exit("wal_frames: fewer than two commits in the copy; copy the WAL while the server is writing")
    commits = min(args.commits, len(commit_ends) - 1)
    window = pages[commit_ends[-commits - 1] + 1:commit_ends[-1] + 1]

    db = sqlite3.connect(f"file:{args.database}?mode=ro", uri=True)
    owner = dict(db.execute("SELECT pageno, name FROM dbstat"))
    by_tree = collections.Counter(owner.get(page, "(unknown page)") for page in window)

    print(f"{len(window) / commits:.1f} frames per commit over the last {commits} commits "
          f"({len(commit_ends)} in the copy)")
    for name, frames in by_tree.most_common(args.top):
        print(f"{frames / commits:8.1f}  {name}")


if __name__ == "__main__":
    main()
