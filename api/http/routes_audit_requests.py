"""``POST /audit-requests``: a whole audit request answered as a job the auditor polls.

The body is the file ``plantrail audit-request`` reads (CSV ``mrn,date,cpt``, header optional;
``Content-Type: text/csv``), within the app's body limit. A file that is not CSV, or holds no
readable claim, is refused at once (422); otherwise the answer is ``202`` with the job's address
in ``Location``. The job runs on the app's one audit-request worker thread, off the request
threads, and is answered by ``api/packet/audit_request.py`` as the CLI's is: a verdict per
claim, a packet per plan the claims fall in, the summary and the cover letter in one zip.
``GET /audit-requests/{id}`` tells its progress (packets made of the total);
``GET /audit-requests/{id}/download`` gives the zip once it is done.

Only the user who asked may poll or download a job; anyone else gets the unknown job's ``404``.
Each lookup of a client and each packet the job makes is its own access-log entry (method
``JOB``, route ``/audit-requests/{id}``), on top of the request's own entries. Jobs are kept in
memory for the life of the process, at most ``MAX_JOBS`` (the oldest finished one goes first):
a restart loses them, finished or not, and the auditor submits the file again (docs/audits.md).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from plantrail.api.http.routes_audits import AUDIT
from plantrail.api.packet.audit_request import (
    AuditRequestAnswer,
    Claim,
    PacketMade,
    answer_audit_request,
    parse_claims,
)
from plantrail.api.routing.common import context
from plantrail.api.routing.context import AppContext, access_entry
from plantrail.api.routing.problems import HTTPProblem, problem_responses
from plantrail.api.routing.reads import rule_profile
from plantrail.domain.errors import InvalidInput
from plantrail.projections.access.access_log import AccessEntry
from plantrail.projections.access.policy import Principal

log = logging.getLogger(__name__)

MAX_JOBS = 50
"""Jobs kept per process (each holds its zip in memory until it is evicted)."""
ACTION = "audit-request"

router = APIRouter(tags=["audits"])

Auditor = Annotated[Principal, Depends(AUDIT)]
Status = Literal["queued", "running", "done", "failed"]


@dataclass
class Job:
    id: str
    user_id: str
    claims: int
    status: Status = "queued"
    done: int = 0
    total: int | None = None
    """Packets to make: known once every claim has its verdict."""
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    zip_bytes: bytes = b""


class AuditJobs:
    """The process's audit-request jobs and the one thread that runs them, one after another
    (an audit request is long and may wait; the request threads stay free for the practice)."""

    def __init__(self) -> None:
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-request")

    def add(self, job: Job) -> None:
        with self.lock:
            while len(self.jobs) >= MAX_JOBS:
                finished = next(
                    (key for key, j in self.jobs.items() if j.status in ("done", "failed")), None
                )
                if finished is None:
                    raise HTTPProblem(
                        503,
                        f"{MAX_JOBS} audit requests are waiting or running; try again later",
                        headers={"Retry-After": "60"},
                    )
                del self.jobs[finished]
            self.jobs[job.id] = job

    def own(self, job_id: str, caller: Principal, entry: AccessEntry) -> Job:
        """The caller's job; another user's job answers as an unknown one does."""
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or job.user_id != caller.user_id:
            entry.outcome = "not_found"
            raise HTTPProblem(404, "no audit request with this id is yours")
        return job


_JOBS_LOCK = threading.Lock()


def jobs_of(request: Request) -> AuditJobs:
    """The app's jobs, made on first use (an app that never answers a request holds no thread)."""
    state = request.app.state
    with _JOBS_LOCK:
        found = getattr(state, "audit_jobs", None)
        if not isinstance(found, AuditJobs):
            found = AuditJobs()
            state.audit_jobs = found
    return found


def shut_down(app: object) -> None:
    """Finish the running job and drop the waiting ones (the app's lifespan ends)."""
    found = getattr(getattr(app, "state", None), "audit_jobs", None)
    if isinstance(found, AuditJobs):
        found.worker.shutdown(wait=True, cancel_futures=True)


class JobAccepted(BaseModel):
    id: str
    status: Status
    claims: int
    location: str


class JobProgress(BaseModel):
    id: str
    status: Status
    claims: int
    done: int
    total: int | None
    verdicts: dict[str, int]
    error: str | None = None
    download: str | None = None


def _progress(job: Job) -> JobProgress:
    return JobProgress(
        id=job.id,
        status=job.status,
        claims=job.claims,
        done=job.done,
        total=job.total,
        verdicts=job.counts,
        error=job.error,
        download=f"/audit-requests/{job.id}/download" if job.status == "done" else None,
    )


def _run(
    ctx: AppContext, job: Job, caller: Principal, claims: list[Claim], address: str | None
) -> None:
    """The job on the worker thread; every entry it made is appended however it ends."""
    entries: list[AccessEntry] = []

    def new_entry() -> AccessEntry:
        entry = AccessEntry(
            method="JOB",
            route=f"/audit-requests/{job.id}",
            user_id=caller.user_id,
            role=caller.role,
            client_address=address,
        )
        entries.append(entry)
        return entry

    def planned(total: int) -> None:
        job.total = total

    def made(_: PacketMade) -> None:
        job.done += 1

    job.status = "running"
    try:
        answer: AuditRequestAnswer = answer_audit_request(
            ctx.service,
            ctx.gateway,
            caller,
            claims,
            new_entry=new_entry,
            generated_at=ctx.service.clock(),
            profile=rule_profile(ctx),
            practice=ctx.settings.practice,
            on_plan=planned,
            on_packet=made,
        )
    except Exception as error:
        log.exception("audit request %s failed", job.id)
        job.error = f"the request could not be answered ({type(error).__name__}); submit it again"
        job.status = "failed"
        for entry in entries:
            entry.status = entry.status or 500
            entry.outcome = entry.outcome or "error"
    else:
        job.zip_bytes, job.counts, job.status = answer.zip_bytes, answer.counts, "done"
    finally:
        for entry in entries:
            ctx.access_log.append(entry)


@router.post(
    "/audit-requests",
    summary="Answer a whole audit request (CSV mrn,date,cpt) as a job",
    status_code=202,
    response_model=JobAccepted,
    responses=problem_responses(401, 403, 413, 415, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "mrn,date,cpt\nMRN-20602,2025-05-08,90837\n",
                }
            },
        }
    },
)
async def submit_audit_request(request: Request, caller: Auditor) -> JSONResponse:
    entry = access_entry(request)
    entry.action = ACTION
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "text/csv":
        raise HTTPProblem(415, "send the claims as CSV (Content-Type: text/csv)")
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.on("claims", "the file is not UTF-8 text") from None
    claims = parse_claims(text)
    job = Job(id=str(uuid.uuid4()), user_id=caller.user_id, claims=len(claims))
    jobs = jobs_of(request)
    jobs.add(job)
    entry.action = f"{ACTION}:{len(claims)} claims"
    address = request.client.host if request.client else None
    jobs.worker.submit(_run, context(request), job, caller, claims, address)
    location = f"/audit-requests/{job.id}"
    accepted = JobAccepted(id=job.id, status=job.status, claims=job.claims, location=location)
    return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": location})


@router.get(
    "/audit-requests/{job_id}",
    summary="The progress of an audit request",
    responses=problem_responses(401, 403, 404),
)
def audit_request_progress(request: Request, job_id: str, caller: Auditor) -> JobProgress:
    entry = access_entry(request)
    entry.action = f"{ACTION}:progress"
    return _progress(jobs_of(request).own(job_id, caller, entry))


@router.get(
    "/audit-requests/{job_id}/download",
    summary="The zip of an answered audit request",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The answer's zip"},
        **problem_responses(401, 403, 404, 409),
    },
)
def download_audit_request(request: Request, job_id: str, caller: Auditor) -> Response:
    entry = access_entry(request)
    entry.action = f"{ACTION}:download"
    job = jobs_of(request).own(job_id, caller, entry)
    if job.status != "done":
        raise HTTPProblem(409, f"the audit request is {job.status}, not done; poll {job_id}")
    return Response(
        job.zip_bytes,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="audit-request-{job_id[:8]}.zip"',
            "Cache-Control": "no-store",
        },
    )
