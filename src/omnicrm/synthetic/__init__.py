"""The synthetic omni-channel retail world: hidden persons, their channel records, orders,
behaviour events and randomised coupon campaigns, plus the ground truth to judge models by.

``stages`` holds each generator stage as a pure function; ``world.generate_world`` runs them
all in memory (tests, benchmarks, notebooks); the ``synthetic`` pipeline wires them for Kedro."""
