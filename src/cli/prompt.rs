//! Questions on the terminal for the interactive commands. Passwords are read without echo from a
//! terminal; when standard input is a pipe, answers are read line by line, so the commands can be
//! scripted and tested.

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

/// Asks questions on standard output and reads answers from standard input.
pub struct Prompter {
    terminal: bool,
    input: io::StdinLock<'static>,
}

impl Prompter {
    /// A prompter on this process's standard input.
    pub fn new() -> Self {
        let stdin = io::stdin();
        Prompter {
            terminal: stdin.is_terminal(),
            input: stdin.lock(),
        }
    }

    /// Prints `message` on its own line.
    pub fn say(&self, message: &str) {
        println!("{message}");
    }

    /// One line of answer (without its line ending).
    pub fn ask(&mut self, question: &str) -> anyhow::Result<String> {
        print!("{question}");
        io::stdout().flush().context("cannot write the question")?;
        let mut line = String::new();
        if self
            .input
            .read_line(&mut line)
            .context("cannot read the answer")?
            == 0
        {
            bail!(
                "input ended before the question {:?} was answered",
                question.trim_end()
            );
        }
        if !self.terminal {
            println!();
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }

    /// An answer that is not echoed on a terminal.
    pub fn ask_secret(&mut self, question: &str) -> anyhow::Result<String> {
        if self.terminal {
            rpassword::prompt_password(question).context("cannot read the password")
        } else {
            self.ask(question)
        }
    }

    /// A yes/no question whose default is no.
    pub fn confirm(&mut self, question: &str) -> anyhow::Result<bool> {
        Ok(matches!(
            self.ask(question)?.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }

    /// Asks for a new password twice until it is acceptable, at most `rules.attempts` times.
    pub fn new_password(
        &mut self,
        username: &str,
        email: &str,
        rules: PasswordRules,
    ) -> anyhow::Result<PasswordAnswer> {
        for _ in 0..rules.attempts {
            let first = self.ask_secret(if rules.allow_blank {
                "Password (leave blank for no usable password): "
            } else {
                "Password: "
            })?;
            if first.is_empty() && rules.allow_blank {
                return Ok(PasswordAnswer::NoPassword);
            }
            let second = self.ask_secret("Password (again): ")?;
            if first != second {
                self.say("Error: Your passwords didn't match.");
                continue;
            }
            if first.trim().is_empty() {
                self.say("Error: Blank passwords aren't allowed.");
                continue;
            }
            let problems = crate::auth::password::validate(&first, username, email);
            for problem in &problems {
                self.say(problem);
            }
            if problems.is_empty()
                || (rules.offer_bypass
                    && self
                        .confirm("Bypass password validation and create user anyway? [y/N]: ")?)
            {
                return Ok(PasswordAnswer::Password(first));
            }
        }
        Ok(PasswordAnswer::GaveUp)
    }
}

/// How `Prompter::new_password` behaves.
#[derive(Clone, Copy, Debug)]
pub struct PasswordRules {
    /// A blank answer means "no usable password".
    pub allow_blank: bool,
    /// Weak passwords may be kept after a warning (createsuperuser, as Django's).
    pub offer_bypass: bool,
    /// Questions before giving up.
    pub attempts: usize,
}

/// The outcome of `Prompter::new_password`.
#[derive(Debug)]
pub enum PasswordAnswer {
    /// An accepted password.
    Password(String),
    /// A blank answer where that is allowed.
    NoPassword,
    /// No acceptable password within the attempts.
    GaveUp,
}
