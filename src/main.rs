//! The `greeter` executable: everything is in the library, so `fuzz/` reaches the same code.

fn main() -> std::process::ExitCode {
    greeter::main()
}
