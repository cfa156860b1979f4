"""National basic public-health service programmes: pure rules (see ``rhip.programs.rules``)."""
