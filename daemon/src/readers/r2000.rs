//! Placeholder: the r2000 protocol module is being written (decoder, commands, simulator).
