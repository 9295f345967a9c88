"""The power-cut and fault campaign on the simulated board (`make soak`, docs/soak.md).

plan.py draws what a cycle does from (seed, cycle); rig.py drives one board in-process;
injections.py holds one small function per fault; checks.py the invariants checked after
every cycle; campaign.py runs cycles over worker processes and writes the figures.
"""
