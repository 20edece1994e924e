"""The mock without HTTP: the engine (``core``) and the parts it is made of."""
