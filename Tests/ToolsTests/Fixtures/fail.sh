#!/bin/sh
echo "partial output"
echo "something went wrong: no such city" >&2
exit 3
