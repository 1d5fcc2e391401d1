//! The `ontap-grpc-gateway` binary: `serve` runs the gateway (against a
//! cluster, or the embedded simulator with `--simulate`); `simulate` runs
//! the simulator alone. This file parses, starts logging, dispatches and
//! turns the outcome into the exit code; the modules do the rest.

mod cli;
mod clusters;
mod exposure;
mod flag_values;
mod logging;
mod serve;
mod signal;
mod simulate;
mod upstreams;

use std::fmt::Display;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

/// jemalloc, whose background thread returns freed pages to the OS within
/// about a second, so the footprint shrinks back after a burst: with glibc's
/// allocator the gateway went 10 -> 29 MiB under `cargo bench --bench soak`
/// and stayed there (BENCHMARKS.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read once at start: purge dirty pages after 1 s
/// from a background thread, instead of only when a thread allocates again.
#[cfg(feature = "jemalloc")]
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(match &cli.command {
        Command::Serve(args) => args.log_format,
        Command::Simulate(args) => args.log_format,
    });
    match cli.command {
        Command::Serve(args) if args.cluster_source().is_none() => refuse_serve_without_a_cluster(),
        Command::Serve(args) => exit_code(serve::run(*args).await),
        Command::Simulate(args) => exit_code(simulate::run(args).await),
    }
}

/// A usage error (exit 2), as clap's own are, listing the ways to start.
fn refuse_serve_without_a_cluster() -> ExitCode {
    Cli::command()
        .error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "serve needs a cluster, or the embedded simulator:\n  \
             serve --ontap-url https://CLUSTER-MGMT   (the password in $ONTAP_PASSWORD)\n  \
             serve --config clusters.toml             (several clusters, picked by x-ontap-cluster)\n  \
             serve --simulate                         (a seeded demo cluster, no setup)",
        )
        .exit()
}

/// Success, or the error logged and failure.
fn exit_code(outcome: Result<(), impl Display>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}
