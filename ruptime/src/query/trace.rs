//! What one host's query tells as it goes, step by step: each address
//! tried, each datagram sent, what came back. The exporter's `debug=true`
//! writes it down; everyone else keeps nothing.

use std::fmt;

/// A listener to a query's steps.
pub trait Trace {
    /// Something happened.
    fn note(&mut self, what: fmt::Arguments<'_>);
}

/// A trace that keeps nothing.
pub struct Untraced;

impl Trace for Untraced {
    fn note(&mut self, _: fmt::Arguments<'_>) {}
}
