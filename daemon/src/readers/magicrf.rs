//! Placeholder: the magicrf protocol module is being written (decoder, commands, simulator).
