//! The input rules both services apply: the api refuses what breaks them, the web's
//! forms explain them next to the field before anything is sent. Each rule lives here
//! once; the api words its refusals, the web words its hints, and neither restates the
//! rule. Errors are kinds, not sentences.

pub mod amount;
pub mod holdings;
pub mod text;
