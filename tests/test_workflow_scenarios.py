"""The scenario suite of issue 5 (part 7) at the conductor level: each checks the order
tasks ran in, the final status and the output."""

from __future__ import annotations

from typing import Any

from attune.workflow import RequestChild
from tests.test_workflow_driver import Driver, Outcome


def test_sequential_chain_with_publish() -> None:
    driver = Driver("""
        version: "1.0"
        parameters:
          name: {type: string, required: true}
        vars:
          greeting: "{{ 'hello ' + parameters.name }}"
        tasks:
          - name: first
            action: core.echo
            input: {message: "{{ workflow.greeting }}"}
            next:
              - when: "{{ succeeded() }}"
                publish:
                  - said: "{{ result().stdout }}"
                do: second
          - name: second
            action: core.echo
            input: {message: "{{ vars.said + '!' }}"}
            next:
              - when: "{{ succeeded() }}"
                publish: [{loud: "{{ upper(result().stdout) }}"}]
                do: [third]
          - name: third
            action: core.echo
            input: {message: "{{ loud }} / {{ task.first.stdout }}"}
        output_map:
          final: "{{ task.third.result.stdout }}"
          said: "{{ workflow.said }}"
    """, {"name": "ada"})
    finished = driver.run()
    assert driver.order() == ["first", "second", "third"]
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {"final": "HELLO ADA! / hello ada", "said": "hello ada"}
    assert [r.parameters["message"] for r in driver.requested] == [
        "hello ada", "hello ada!", "HELLO ADA! / hello ada"]


def test_two_parallel_chains_run_interleaved() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: a1, action: core.noop, next: [{do: a2}]}
          - {name: a2, action: core.noop}
          - {name: b1, action: core.noop, next: [{do: b2}]}
          - {name: b2, action: core.noop}
    """)
    assert driver.order() == ["a1", "b1"]  # both chains start at once
    finished = driver.run()
    assert driver.order() == ["a1", "b1", "a2", "b2"]
    assert finished is not None and finished.status == "succeeded"


def test_three_way_decision_takes_only_the_matching_branch() -> None:
    text = """
        version: "1.0"
        parameters:
          size: {type: integer, required: true}
        tasks:
          - name: measure
            action: core.echo
            input: {message: "{{ parameters.size }}"}
            next:
              - {when: "{{ parameters.size < 10 }}", do: small}
              - {when: "{{ parameters.size >= 10 and parameters.size < 100 }}", do: medium}
              - {when: "{{ parameters.size >= 100 }}", do: large}
          - {name: small, action: core.noop}
          - {name: medium, action: core.noop}
          - {name: large, action: core.noop}
        output_map:
          branch: "{{ keys(task)[1] }}"
    """
    for size, branch in ((3, "small"), (42, "medium"), (500, "large")):
        driver = Driver(text, {"size": size})
        finished = driver.run()
        assert driver.order() == ["measure", branch]
        assert finished is not None and finished.output == {"branch": branch}


def test_fork_and_join_all() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: fork
            action: core.noop
            next: [{do: [left, middle, right]}]
          - {name: left, action: core.echo, input: {message: L},
             next: [{publish: {l: "{{ result().stdout }}"}, do: join}]}
          - {name: middle, action: core.echo, input: {message: M},
             next: [{publish: {m: "{{ result().stdout }}"}, do: join}]}
          - {name: right, action: core.echo, input: {message: R},
             next: [{publish: {r: "{{ result().stdout }}"}, do: join}]}
          - name: join
            join: all
            action: core.echo
            input: {message: "{{ l + m + r }}"}
        output_map: {joined: "{{ task.join.stdout }}"}
    """)
    finished = driver.run()
    assert driver.order() == ["fork", "left", "middle", "right", "join"]
    assert driver.tasks_started().count("join") == 1
    assert finished is not None and finished.output == {"joined": "LMR"}


def test_integer_join_starts_after_n_inbound_tasks_and_the_workflow_waits_for_the_rest() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [a, b, c]}]}
          - {name: a, action: core.noop, next: [{do: two}]}
          - {name: b, action: core.noop, next: [{do: two}]}
          - {name: c, action: core.slow, next: [{do: two}]}
          - {name: two, join: 2, action: core.noop}
    """, actions={"core.slow": lambda r: ("succeeded", None)}, lifo=False)
    finished = driver.run()
    assert driver.order() == ["fork", "a", "b", "c", "two"]
    assert driver.tasks_started().count("two") == 1
    assert finished is not None and finished.status == "succeeded"


def test_failure_handled_by_a_failed_transition_lets_the_workflow_succeed() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: risky
            action: core.fail
            next:
              - {when: "{{ succeeded() }}", do: celebrate}
              - {when: "{{ failed() }}", publish: {why: "{{ result().error }}"}, do: cleanup}
          - {name: celebrate, action: core.noop}
          - {name: cleanup, action: core.echo, input: {message: "cleaning after {{ why }}"}}
        output_map: {why: "{{ why }}"}
    """)
    finished = driver.run()
    assert driver.order() == ["risky", "cleanup"]
    assert driver.requested[-1].parameters == {"message": "cleaning after boom"}
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {"why": "boom"}


def test_unhandled_failure_fails_the_workflow_and_starts_nothing_new() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [bad, slow]}]}
          - {name: bad, action: core.fail, next: [{when: "{{ succeeded() }}", do: never}]}
          - {name: never, action: core.noop}
          - {name: slow, action: core.noop, next: [{do: after_slow}]}
          - {name: after_slow, action: core.noop}
    """)
    driver.step()  # fork
    assert [r.child.task for r in driver.in_flight] == ["bad", "slow"]
    driver.step()  # bad fails: the workflow is failing, slow may finish
    assert driver.state.status == "failing" and driver.finished is None
    finished = driver.run()
    assert driver.order() == ["fork", "bad", "slow"]  # neither `never` nor `after_slow`
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and "'bad' failed" in finished.error
    assert driver.state.task_view["slow"]["status"] == "succeeded"


def test_with_items_concurrency_two_keeps_two_in_flight_and_orders_results() -> None:
    def double(request: RequestChild) -> Outcome:
        return "succeeded", request.parameters["n"] * 2

    driver = Driver("""
        version: "1.0"
        parameters:
          numbers: {type: array, required: true}
        tasks:
          - name: each
            action: core.double
            with_items: "{{ parameters.numbers }}"
            concurrency: 2
            input: {n: "{{ item }}", at: "{{ index }}"}
            next: [{publish: {doubled: "{{ result() }}"}}]
        output_map: {doubled: "{{ doubled }}"}
    """, {"numbers": [1, 2, 3]}, actions={"core.double": double}, lifo=True)
    assert [r.child.item for r in driver.in_flight] == [0, 1]
    finished = driver.run()
    assert driver.max_in_flight["each"] == 2
    assert driver.order() == ["each[0]", "each[1]", "each[2]"]
    assert [r.parameters for r in driver.requested] == [
        {"n": 1, "at": 0}, {"n": 2, "at": 1}, {"n": 3, "at": 2}]
    assert finished is not None and finished.output == {"doubled": [2, 4, 6]}


def test_with_items_results_stay_in_item_order_when_children_end_out_of_order() -> None:
    def tag(request: RequestChild) -> Outcome:
        return "succeeded", request.parameters["v"]

    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.custom
            with_items: "{{ ['a', 'b', 'c', 'd'] }}"
            concurrency: 4
            input: {v: "{{ item }}"}
        output_map: {all: "{{ task.each.result }}"}
    """, actions={"core.custom": tag}, lifo=True)
    finished = driver.run()
    assert finished is not None and finished.output == {"all": ["a", "b", "c", "d"]}


def test_with_items_over_an_empty_list_succeeds_with_no_children() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.noop
            with_items: "{{ [] }}"
            next: [{when: "{{ succeeded() }}", publish: {got: "{{ result() }}"}, do: after}]
          - {name: after, action: core.noop}
        output_map: {got: "{{ got }}"}
    """)
    finished = driver.run()
    assert driver.order() == ["after"]
    assert finished is not None and finished.output == {"got": []}


def test_with_items_in_batches() -> None:
    def size(request: RequestChild) -> Outcome:
        return "succeeded", len(request.parameters["batch"])

    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.custom
            with_items: "{{ range(7) }}"
            batch_size: 3
            concurrency: 3
            input: {batch: "{{ item }}", number: "{{ index }}"}
        output_map: {sizes: "{{ task.each.result }}"}
    """, actions={"core.custom": size})
    finished = driver.run()
    assert [r.parameters for r in driver.requested] == [
        {"batch": [0, 1, 2], "number": 0}, {"batch": [3, 4, 5], "number": 1},
        {"batch": [6], "number": 2}]
    assert finished is not None and finished.output == {"sizes": [3, 3, 1]}


def test_with_items_failure_stops_further_items_and_fails_the_task() -> None:
    def odd_fails(request: RequestChild) -> Outcome:
        return ("failed", "odd") if request.parameters["n"] % 2 else ("succeeded", "even")

    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.custom
            with_items: "{{ range(6) }}"
            concurrency: 2
            input: {n: "{{ item }}"}
            next: [{when: "{{ failed() }}", publish: {partial: "{{ result() }}"}}]
        output_map: {partial: "{{ partial }}"}
    """, actions={"core.custom": odd_fails})
    finished = driver.run()
    assert driver.order() == ["each[0]", "each[1]", "each[2]"]  # none after the failure
    assert finished is not None and finished.status == "succeeded"  # handled
    assert finished.output == {"partial": ["even", "odd", "even", None, None, None]}


def test_retry_succeeds_on_the_third_attempt_with_backoff() -> None:
    attempts: list[int] = []

    def flaky(request: RequestChild) -> Outcome:
        attempts.append(request.child.attempt)
        return ("succeeded", {"n": len(attempts)}) if len(attempts) == 3 else ("failed", None)

    driver = Driver("""
        version: "1.0"
        tasks:
          - name: flaky
            action: core.flaky
            retry: {count: 3, delay: 2, backoff: exponential, max_delay: 60}
            next: [{when: "{{ succeeded() }}", publish: {n: "{{ result().n }}"}}]
        output_map: {n: "{{ n }}"}
    """, actions={"core.flaky": flaky})
    finished = driver.run()
    assert attempts == [1, 2, 3]
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {"n": 3}
    # delays of 2 s then 4 s (exponential) on the injected clock
    assert (driver.now - driver.events[0].at).total_seconds() == 6


def test_retry_gives_up_after_count_and_honours_its_condition() -> None:
    calls: list[Any] = []

    def always_fails(request: RequestChild) -> Outcome:
        calls.append(request.child.attempt)
        return "failed", {"code": 500 if len(calls) < 2 else 404}

    driver = Driver("""
        version: "1.0"
        tasks:
          - name: call
            action: core.flaky
            retry: {count: 5, when: "{{ result().code >= 500 }}"}
    """, actions={"core.flaky": always_fails})
    finished = driver.run()
    assert calls == [1, 2]  # the 404 is not retried
    assert finished is not None and finished.status == "failed"


def test_counting_cycle() -> None:
    driver = Driver("""
        version: "1.0"
        vars: {count: 0}
        tasks:
          - name: init
            action: core.noop
            next: [{do: work}]
          - name: work
            action: core.echo
            input: {message: "round {{ workflow.count }}"}
            next:
              - when: "{{ succeeded() }}"
                publish: {count: "{{ workflow.count + 1 }}"}
              - {when: "{{ workflow.count < 3 }}", do: work}
              - {when: "{{ workflow.count >= 3 }}", do: done}
          - {name: done, action: core.noop}
        output_map: {count: "{{ workflow.count }}", runs: "{{ task.work.run }}"}
    """)
    finished = driver.run()
    assert driver.order() == ["init", "work", "work", "work", "done"]
    assert [r.parameters.get("message") for r in driver.requested[1:4]] == [
        "round 0", "round 1", "round 2"]
    assert finished is not None and finished.output == {"count": 3, "runs": 3}


def test_namespaces_config_keystore_system_and_aliases() -> None:
    looked_up: list[str] = []

    def keystore(name: str) -> Any:
        looked_up.append(name)
        return {"api_token": "s3cret"}.get(name)

    driver = Driver("""
        version: "1.0"
        vars: {region: eu}
        tasks:
          - name: call
            action: core.custom
            input:
              url: "{{ config.base_url + '/v1' }}"
              auth: "Bearer {{ keystore.api_token }}"
              region: "{{ variables.region }}/{{ vars.region }}/{{ region }}"
              execution: "{{ system.execution_id }}"
              started: "{{ type_of(system.workflow_start) }}"
            next: [{do: after}]
          - name: after
            action: core.custom
            input: {prev: "{{ tasks.call.status }}", has: "{{ 'nope' in keystore }}"}
    """, config={"base_url": "https://api"}, keystore=keystore,
        actions={"core.custom": lambda r: ("succeeded", None)})
    finished = driver.run()
    assert finished is not None and finished.status == "succeeded"
    assert driver.requested[0].parameters == {
        "url": "https://api/v1", "auth": "Bearer s3cret", "region": "eu/eu/eu",
        "execution": 7, "started": "string"}
    assert driver.requested[1].parameters == {"prev": "succeeded", "has": False}
    assert looked_up == ["api_token", "nope"]


def test_timeout_reaches_the_child_and_timed_out_branch() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: slow
            action: core.slow
            timeout: 5
            next:
              - {when: "{{ timed_out() }}", do: report}
          - {name: report, action: core.noop}
    """, actions={"core.slow": lambda r: ("timeout", None)})
    assert driver.requested[0].timeout_seconds == 5
    finished = driver.run()
    assert driver.order() == ["slow", "report"]
    assert finished is not None and finished.status == "succeeded"


def test_task_delay_waits_on_a_timer() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: first, action: core.noop, next: [{do: later}]}
          - {name: later, action: core.noop, delay: 30}
    """)
    driver.step()
    assert not driver.in_flight and list(driver.timers) == ["delay:later:1"]
    finished = driver.run()
    assert driver.order() == ["first", "later"]
    assert (driver.now - driver.events[0].at).total_seconds() == 30
    assert finished is not None and finished.status == "succeeded"


def test_routing_task_without_action_and_engine_commands() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: route
            next:
              - {when: "{{ true }}", do: [work, noop]}
          - {name: work, action: core.noop, next: [{do: fail}]}
    """)
    finished = driver.run()
    assert driver.order() == ["work"]
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and "do: the workflow was failed by task 'work'" in \
        finished.error


def test_output_rendering_error_fails_the_workflow_with_the_field() -> None:
    driver = Driver("""
        version: "1.0"
        tasks: [{name: only, action: core.noop}]
        output_map: {bad: "{{ task.only.result.missing }}"}
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and "output.bad" in finished.error


def test_input_rendering_error_fails_the_task_which_a_transition_can_handle() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: bad
            action: core.echo
            input: {message: "{{ workflow.nope }}"}
            next: [{when: "{{ failed() }}", publish: {why: "{{ result().error }}"}}]
        output_map: {why: "{{ why }}"}
    """)
    finished = driver.run()
    assert driver.order() == []
    assert finished is not None and finished.status == "succeeded"
    assert "tasks.bad.input.message" in finished.output["why"]  # type: ignore[index]


def test_join_that_cannot_be_reached_fails_the_workflow() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [a, b]}]}
          - {name: a, action: core.noop, next: [{do: both}]}
          - {name: b, action: core.fail, next: [{when: "{{ succeeded() }}", do: both},
                                               {when: "{{ failed() }}", do: noop}]}
          - {name: both, join: all, action: core.noop}
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert finished.error is not None and "tasks.both.join" in finished.error


def test_a_workflow_three_levels_deep() -> None:
    """A child whose action is a workflow runs its own conductor; here the fake executor
    runs it to the end and hands its output back as the child's result."""
    levels = {
        "examples.leaf": """
            version: "1.0"
            parameters: {n: {type: integer}}
            tasks: [{name: echo, action: core.echo, input: {message: "leaf {{ parameters.n }}"}}]
            output_map: {said: "{{ task.echo.stdout }}"}
        """,
        "examples.middle": """
            version: "1.0"
            parameters: {n: {type: integer}}
            tasks:
              - {name: down, action: examples.leaf, input: {n: "{{ parameters.n + 1 }}"}}
            output_map: {said: "{{ task.down.result.said }}", level: 2}
        """,
    }
    ran: list[str] = []

    def nested(request: RequestChild) -> Outcome:
        ran.append(request.action)
        child = Driver(levels[request.action], request.parameters, actions=actions)
        finished = child.run()
        assert finished is not None
        return finished.status, finished.output

    actions = {"examples.leaf": nested, "examples.middle": nested}
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: top, action: examples.middle, input: {n: 1}}
        output_map: {said: "{{ task.top.said }}", level: "{{ task.top.result.level }}"}
    """, actions=actions)
    finished = driver.run()
    assert ran == ["examples.middle", "examples.leaf"]
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {"said": "leaf 2", "level": 2}


def test_items_that_are_not_a_list_fail_the_task_with_the_reason() -> None:
    driver = Driver("""
        version: "1.0"
        vars: {hosts: "web-1", width: 2}
        tasks:
          - name: each
            action: core.noop
            with_items: "{{ workflow.hosts }}"
            concurrency: "{{ workflow.width }}"
            next: [{when: "{{ failed() }}", publish: {why: "{{ task.each.error }}"}}]
        output_map: {why: "{{ why }}"}
    """)
    finished = driver.run()
    assert driver.order() == []
    assert finished is not None and finished.status == "succeeded"
    assert finished.output == {
        "why": "tasks.each.with_items: expected an array, got string"}


def test_concurrency_may_be_a_template() -> None:
    driver = Driver("""
        version: "1.0"
        parameters: {width: {type: integer, default: 3}}
        tasks:
          - name: each
            action: core.noop
            with_items: "{{ range(7) }}"
            concurrency: "{{ parameters.width }}"
    """)
    assert len(driver.in_flight) == 3
    finished = driver.run()
    assert driver.max_in_flight["each"] == 3
    assert finished is not None and finished.status == "succeeded"


def test_a_join_inside_a_cycle_waits_for_both_branches_each_round() -> None:
    driver = Driver("""
        version: "1.0"
        vars: {round: 0}
        tasks:
          - {name: begin, action: core.noop, next: [{do: fork}]}
          - {name: fork, action: core.noop, next: [{do: [left, right]}]}
          - {name: left, action: core.noop, next: [{do: meet}]}
          - {name: right, action: core.noop, next: [{do: meet}]}
          - name: meet
            join: all
            action: core.noop
            next:
              - publish: {round: "{{ round + 1 }}"}
              - {when: "{{ round < 3 }}", do: fork}
              - {when: "{{ round >= 3 }}", do: done}
          - {name: done, action: core.noop}
        output_map: {rounds: "{{ round }}", meets: "{{ task.meet.run }}"}
    """)
    finished = driver.run()
    assert driver.order() == ["begin"] + ["fork", "left", "right", "meet"] * 3 + ["done"]
    assert finished is not None and finished.output == {"rounds": 3, "meets": 3}


def test_a_task_reached_by_two_routes_without_a_join_runs_once_per_route() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - {name: fork, action: core.noop, next: [{do: [a, b]}]}
          - {name: a, action: core.noop, next: [{do: shared}]}
          - {name: b, action: core.noop, next: [{do: shared}]}
          - {name: shared, action: core.echo, input: {message: "{{ result().ok }}"}}
    """)
    finished = driver.run()
    assert driver.order() == ["fork", "a", "b", "shared", "shared"]
    assert [e.via for e in driver.events if getattr(e, "task", None) == "shared"
            and e.type == "workflow.task_started"] == ["a", "b"]
    assert finished is not None and finished.status == "succeeded"


def test_a_concurrency_that_is_not_an_integer_fails_the_task() -> None:
    driver = Driver("""
        version: "1.0"
        tasks:
          - name: each
            action: core.noop
            with_items: "{{ [1, 2] }}"
            concurrency: "{{ 'two' }}"
    """)
    finished = driver.run()
    assert finished is not None and finished.status == "failed"
    assert "tasks.each.concurrency: expected an integer, got string" in (finished.error or "")
