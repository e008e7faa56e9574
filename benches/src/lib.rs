//! Benchmarks live in `benches/benches`; see `benches/throughput.sh` for whole-binary throughput.
