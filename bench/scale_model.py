#!/usr/bin/env python3
"""The speed-up model of docs/scale-out.md ("Model for N real nodes"): from per-core
rates and byte ratios measured by bench/scale.sh, the time of the reference
reconciliation on N nodes against one, with the shuffle on the shared filesystem or
on node-local disks (the temporary tables too). Prints a markdown table; the defaults are the figures of
bench/results/scale-20261206-135338.md (docs/scale-out.md).

usage: bench/scale_model.py [--fixed F] [--u U] [--z Z] [--io R] [--rm RM] [--r1 R1] [--k K] [--stages N] [--ts S]
  r1     whole pipeline in the server, MiB/s of Parquet input per core
  rm     map tasks, MiB/s of input per core
  z      shuffle bytes / input bytes (written once by the map stage)
  io     bytes the stages after the map read and write (shuffle, temporary tables) / input bytes
  k      bucket work / the same statements' time in the server
  fixed  seconds of statements that are not split and do not grow with the input (the
         reference's: over its 20 000 accounts' results, 0.7 s at 13M rows and 0.8 s at 53M)
  u      share of the server's time in statements that are not split and grow with it
  stages Slurm stages (jobs) the run submits, ts seconds of each beyond its work
"""
import argparse

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--r1", type=float, default=15.2)
p.add_argument("--rm", type=float, default=33.3)
p.add_argument("--z", type=float, default=0.61)
p.add_argument("--io", type=float, default=3.14)
p.add_argument("--k", type=float, default=0.89)
p.add_argument("--u", type=float, default=0.0)
p.add_argument("--fixed", type=float, default=2.0)
p.add_argument("--cores", type=int, default=32, help="cores per node")
p.add_argument("--fs", type=float, default=20.0, help="shared filesystem, GiB/s aggregate")
p.add_argument("--link", type=float, default=3.0, help="GiB/s per node")
p.add_argument("--input", type=float, default=850.0, help="S, GiB of Parquet input")
p.add_argument("--ts", type=float, default=1.0, help="s of scheduling per stage")
p.add_argument("--stages", type=int, default=12, help="Slurm stages (jobs) of the run")
a = p.parse_args()

S = a.input * 1024  # MiB
T1 = S / (a.cores * a.r1)


def time(n, local_shuffle):
    bw = min(a.fs, n * a.link) * 1024  # MiB/s through the shared filesystem
    if local_shuffle:  # the filesystem delivers the input; the shuffle goes node to node
        map_io = S / bw
        bucket_io = a.io * S / (n * a.link * 1024)
    else:
        map_io = (1 + a.z) * S / bw
        bucket_io = a.io * S / bw
    map_t = max(S / (n * a.cores * a.rm), map_io)
    buckets = max(a.k * (1 - a.u) * T1 / n, bucket_io)
    return a.fixed + a.u * T1 + map_t + buckets + a.stages * a.ts


print(f"T1 = {T1:.0f} s (S = {a.input:.0f} GiB, {a.cores} cores per node, r1 = {a.r1} MiB/s per core)")
print()
print("| nodes | shuffle on the shared filesystem | shuffle on node-local disks |")
print("|---|---|---|")
for n in (1, 2, 4, 8, 16, 32):
    cells = []
    for local in (False, True):
        s = T1 / time(n, local)
        cells.append(f"{s:.2f} ({s / n:.2f})")
    print(f"| {n} | {cells[0]} | {cells[1]} |")
