"""Rules and state machines, one module per area. No HTTP here."""
