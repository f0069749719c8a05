#!/bin/bash
export PYTHONPATH=/usr/local/airflow/dags/lib:$PYTHONPATH
export MY_TEAM_SETTING=1
