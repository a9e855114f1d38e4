"""The MSP console: what MSP staff see in a browser. Views only translate HTTP: who may
do what is `sites.access`, site rules `sites.services`, credentials `sites.credentials`."""
