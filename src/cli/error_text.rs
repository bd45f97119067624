//! How a failed command's error reads on the terminal.

/// The error and its causes in one line, each cause only where the text so far does not
/// already say it: most of our errors put their cause in their own message (the console
/// shows that message alone), and `{:#}` would then print it twice ("No such file or
/// directory (os error 2): No such file or directory (os error 2)").
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Whether the command failed only because whoever read its output stopped reading
/// (`instore simulate -o - | head`): like other command-line tools it then ends quietly,
/// as the reader asked.
pub fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_cause_already_in_the_message_is_not_said_again() {
        let missing = std::fs::File::open("/nonexistent/instore-dump.jsonl")
            .map_err(|source| crate::io::dump::DumpError::Open {
                path: "/nonexistent/instore-dump.jsonl".into(),
                source,
            })
            .expect_err("no such file");
        let said = error_text(&anyhow::Error::new(missing));
        assert_eq!(
            said.matches("No such file or directory").count(),
            1,
            "{said}"
        );
        assert!(said.starts_with("cannot open dump /nonexistent/instore-dump.jsonl: "));
    }

    #[test]
    fn a_cause_the_message_does_not_say_is_added() {
        let error = Err::<(), _>(std::io::Error::other("disk on fire"))
            .context("cannot write the report")
            .expect_err("an error");
        assert_eq!(error_text(&error), "cannot write the report: disk on fire");
    }
}
