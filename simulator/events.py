"""Action events of API commands (listEvents), as CloudStack writes them.

An async command gets a Scheduled event when its job is queued (ApiServer.processAsyncCmd,
ActionEventUtils.onScheduledActionEvent): the command's getEventType and getEventDescription, owned by its
getEntityOwnerId, about its getApiResourceType/getApiResourceId. Its id is the job's start event id (the CallContext's
startEventId). The service method the job runs carries an @ActionEvent; ActionEventInterceptor writes a Started event
before it (interceptStart, only when the annotation is async: the description with its first letter capitalized) and
a Completed one after it (interceptComplete "Successfully completed <description>", interceptException the ERROR
"Error while <description>"), both owned by the calling account (ActionEventUtils.getOwnerAccountId) and linked to the
Scheduled event by their start id (EventResponse parentid). A description gets ". <details>" when the command set
CallContext event details (setEventDetails) before that event is written.
"""

from contextlib import contextmanager

from simulator.jobs import ShutDown, start_event_id


class CommandEvent:
    """What an async command tells ApiServer about its event (getEventType, getEventDescription, getEntityOwnerId,
    getApiResourceType/getApiResourceId); AsyncWork carries it to Jobs.submit."""

    def __init__(self, event_type, description, owner, resource=None, resource_type="VirtualMachine"):
        self.event_type = event_type
        self.description = description
        self.owner = owner
        self.resource = resource
        self.resource_type = resource_type

    def schedule(self, app, caller):
        """ActionEventUtils.onScheduledActionEvent: the Scheduled event of the job being queued (start id 0)."""
        return app.event(self.owner, self.event_type, self.description, resource=self.resource, state="Scheduled",
                         resource_type=self.resource_type, user=caller.user)


def started(ctx, event_type, description, resource, resource_type="VirtualMachine"):
    """ActionEventUtils.onStartedActionEvent(FromContext): a Started event of the caller, linked to the job's start
    event; none for the empty event type of an @ActionEvent("") method."""
    if event_type:
        ctx.app.event(ctx.caller.account, event_type, description, resource=resource, state="Started",
                      resource_type=resource_type, user=ctx.caller.user, start_id=start_event_id())


def capitalized(text):
    """ActionEventInterceptor.getEventDescription(..., true): the first letter in upper case."""
    return text[:1].upper() + text[1:]


class ActionEvent:
    """One @ActionEvent method call: ``details`` are the CallContext event details (settable while it runs)."""

    def __init__(self, event_type, description, details=None):
        self.event_type = event_type
        self.description = description
        self.details = details

    def text(self):
        """The description with its details (ActionEventInterceptor.getEventDescription)."""
        return f"{self.description}. {self.details}" if self.details else self.description


@contextmanager
def action_event(ctx, resource, event_type, description, details=None, is_async=True,
                 resource_type="VirtualMachine"):
    """ActionEventInterceptor.invoke around an @ActionEvent(event_type, description, async=is_async) method on the
    command's resource: Started (async only), then Completed of level INFO, or ERROR when the body raises (a job
    dropped at shutdown writes none). Yields the ActionEvent, whose details the body may set (setEventDetails)."""
    action = ActionEvent(event_type, description, details)
    if is_async:
        started(ctx, event_type, capitalized(action.text()), resource, resource_type)
    try:
        yield action
    except ShutDown:
        raise
    except Exception:
        completed(ctx, action, f"Error while {action.text()}", resource, resource_type, "ERROR")
        raise
    completed(ctx, action, f"Successfully completed {action.text()}", resource, resource_type, "INFO")


def completed(ctx, action, description, resource, resource_type, level):
    """ActionEventUtils.onCompletedActionEvent for the caller (none when the event type is still empty)."""
    if action.event_type:
        ctx.app.event(ctx.caller.account, action.event_type, description, resource=resource, level=level,
                      resource_type=resource_type, user=ctx.caller.user, start_id=start_event_id())


def nested(ctx, action, event_type, description, resource, resource_type):
    """ActionEventUtils.startNestedActionEvent: the running @ActionEvent takes this type and description (its
    details stay), and a Started event is written with them as given."""
    action.event_type, action.description = event_type, description
    started(ctx, event_type, description, resource, resource_type)
