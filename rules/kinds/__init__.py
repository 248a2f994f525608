"""Rule kinds: each a pure `update(state, event, now, rule, context) -> (state, actions)` and
`tick(state, now, rule) -> (state, actions)` for conditions that mature with time alone."""
