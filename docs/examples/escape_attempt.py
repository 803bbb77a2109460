# A hostile "tool": tries to walk from a tuple to every class in the interpreter.
# The sandbox refuses it at compile time (names starting with "_" are not allowed).
classes = ().__class__.__bases__[0].__subclasses__()
