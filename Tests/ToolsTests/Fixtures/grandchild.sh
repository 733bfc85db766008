#!/bin/sh
# Leaves a background grandchild that still holds stdout open, prints its pid, exits at once.
sleep 300 &
echo $!
