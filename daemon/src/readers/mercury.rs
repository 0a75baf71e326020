//! Placeholder: the mercury protocol module is being written (decoder, commands, simulator).
