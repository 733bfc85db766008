#!/bin/sh
# Prints the arguments it received on stdin, then a line on stderr.
cat
echo "note on stderr" >&2
