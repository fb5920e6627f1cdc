//! The `metax-auth` binary: everything happens in the library's `cli` module.

fn main() -> std::process::ExitCode {
    metax_auth::cli::main()
}
