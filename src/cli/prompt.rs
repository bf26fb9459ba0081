//! Secrets typed on the terminal (a token PIN, a key password): asked on stderr, read from
//! stdin with echo off, and only when stdin is a terminal.

use std::io::{BufRead, Write};

/// True when stdin is a terminal, so a prompt can be answered.
pub fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

/// Shows `prompt` on stderr and reads one line from the terminal on stdin with echo off;
/// echo is restored even on error. The line ending is dropped.
pub fn read_secret(prompt: &str) -> std::io::Result<Vec<u8>> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    // SAFETY: termios is plain data; tcgetattr fills it for descriptor 0.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: same descriptor, a copy of the settings just read.
    if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    read?;
    // No copy: the bytes move to the caller, which owns the secret from here.
    let mut secret = line.into_bytes();
    while matches!(secret.last(), Some(b'\n' | b'\r')) {
        secret.pop();
    }
    Ok(secret)
}
