"""A small downstream project: the "your code" that README's examples call.

README's examples run unchanged against it (tests/readme puts this folder on the path of their
runs): ``sync`` pushes a catalogue, ``runs`` re-runs the tasks of failed runs, ``my_wrapper``
builds and explains source payloads. Each uses the official client the way a connector would.
"""
