#!/bin/sh
# 1.5 MiB of 'a', more than the 1 MiB cap.
head -c 1572864 /dev/zero | tr '\0' a
