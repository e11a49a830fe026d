"""A door simulated on a labelled face set, with the engine's own enrolment and decision code:
`facegate eval door` measures a policy, `facegate calibrate` fits one."""
