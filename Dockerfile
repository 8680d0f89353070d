ARG V=1
FROM python:3.11.9
