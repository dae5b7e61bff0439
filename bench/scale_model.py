#!/usr/bin/env python3
"""The speed-up model of docs/scale-out.md ("Model for N real nodes"): from per-core
rates and byte ratios measured by bench/scale.sh, the time of the reference
reconciliation on N nodes against one, with the shuffle on the shared filesystem
(SHUFFLE=shared) and on the nodes' disks, fetched node to node (SHUFFLE=nodes, the
default). Prints a markdown table; the defaults are the figures of the reports
docs/scale-out.md names.

usage: bench/scale_model.py [--fixed F] [--u U] [--k K] [--r1 R1] [--stages N] [--ts S]
                            [--rm RM] [--z Z] [--io R]                  (shuffle shared)
                            [--rm-nodes RM] [--z-nodes Z] [--io-fs R] [--io-net R] [--cf C]
                                                                        (on the nodes)
  r1       whole pipeline in the server, MiB/s of Parquet input per core
  rm       map tasks, MiB/s of input per core (zstd shuffle; --rm-nodes: snappy)
  z        shuffle bytes / input bytes, written once by the map stage
  io       bytes the stages after the map read and write through the shared filesystem
           (shuffle, temporary tables, outputs) / input bytes, shuffle shared
  io-fs    the same with the shuffle on the nodes (temporary tables, outputs)
  io-net   bytes fetched from other nodes / input bytes (whole shuffle files, once per
           statement reading them)
  cf       CPU seconds per MiB fetched, both ends (TLS, sockets, the copy on disk)
  k        bucket work / the same statements' time in the server
  fixed    seconds of statements that are not split and do not grow with the input
  u        share of the server's time in statements that are not split and grow with it
  stages   Slurm stages (jobs) the run submits, ts seconds of each beyond its work
"""
import argparse

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--r1", type=float, default=15.2)
p.add_argument("--rm", type=float, default=33.3)
p.add_argument("--z", type=float, default=0.61)
p.add_argument("--io", type=float, default=2.93)
p.add_argument("--rm-nodes", type=float, default=41.0)
p.add_argument("--z-nodes", type=float, default=1.06)
p.add_argument("--io-fs", type=float, default=1.57)
p.add_argument("--io-net", type=float, default=1.06)
p.add_argument("--cf", type=float, default=0.0028)
p.add_argument("--k", type=float, default=0.89)
p.add_argument("--u", type=float, default=0.0)
p.add_argument("--fixed", type=float, default=2.0)
p.add_argument("--cores", type=int, default=32, help="cores per node")
p.add_argument("--fs", type=float, default=20.0, help="shared filesystem, GiB/s aggregate")
p.add_argument("--link", type=float, default=3.0, help="GiB/s per node (its link, and its local disk)")
p.add_argument("--input", type=float, default=850.0, help="S, GiB of Parquet input")
p.add_argument("--ts", type=float, default=1.0, help="s of scheduling per stage")
p.add_argument("--stages", type=int, default=7, help="Slurm stages (jobs) of the run")
a = p.parse_args()

S = a.input * 1024  # MiB
T1 = S / (a.cores * a.r1)


def time(n, on_nodes):
    fs = min(a.fs, n * a.link) * 1024  # MiB/s through the shared filesystem
    net = n * a.link * 1024  # MiB/s node to node (and to the nodes' disks)
    if on_nodes:  # the filesystem delivers the input; the shuffle stays on the nodes
        map_t = max(S / (n * a.cores * a.rm_nodes), S / fs, a.z_nodes * S / net)
        rest_io = max(a.io_fs * S / fs, a.io_net * S / net)
        fetch_cpu = a.cf * a.io_net * S * (n - 1) / n / (n * a.cores)  # a node's own files are not fetched
    else:
        map_t = max(S / (n * a.cores * a.rm), (1 + a.z) * S / fs)
        rest_io = a.io * S / fs
        fetch_cpu = 0.0
    rest = max(a.k * (1 - a.u) * T1 / n + fetch_cpu, rest_io)
    return a.fixed + a.u * T1 + map_t + rest + a.stages * a.ts


print(f"T1 = {T1:.0f} s (S = {a.input:.0f} GiB, {a.cores} cores per node, r1 = {a.r1} MiB/s per core)")
print()
print("| nodes | shuffle on the shared filesystem | shuffle on the nodes' disks |")
print("|---|---|---|")
for n in (1, 2, 4, 8, 12, 16, 24, 32):
    cells = []
    for on_nodes in (False, True):
        s = T1 / time(n, on_nodes)
        cells.append(f"{s:.2f} ({s / n:.2f})")
    print(f"| {n} | {cells[0]} | {cells[1]} |")
