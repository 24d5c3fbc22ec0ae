//! Domain types. Values are parsed once at the edge ("parse, don't validate"):
//! a `ScriptName` can only hold a valid name, so code that has one needs no checks.

#[macro_use]
mod text;
pub mod absent;
pub mod alarm;
pub mod attachment;
pub mod cloudwatch;
pub mod engineer;
pub mod incident;
pub mod inventory;
pub mod job;
pub mod notification;
pub mod patch;
pub mod prometheus;
pub mod public_script;
pub mod schedule;
pub mod script;
pub mod tenant;
pub mod war_room;

pub use text::{char_len, is_word};
