"""What each Unity inference engine can run, and a checker that says why not."""
