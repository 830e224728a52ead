// Reads iCalendar feeds with ical.js (the parser of Thunderbird) and prints what it understood.
//
//   node validate.mjs FEED.ics [FEED.ics ...]
//
// Prints one JSON object: for each file its calendar name, the VTIMEZONEs it registered, and
// for each VEVENT the UID, RECURRENCE-ID, SEQUENCE, STATUS, SUMMARY, the start and end as UTC
// instants (all-day events: their dates) computed through the feed's own VTIMEZONEs, and the
// alarms. Exits 1 with a message on the first file ical.js refuses.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function when(time, tzid) {
  if (time === null) {
    return null;
  }
  if (time.isDate) {
    return { date: time.toString() };
  }
  const zone = time.zone ? time.zone.tzid : null;
  if (tzid && zone !== tzid) {
    throw new Error(`TZID ${tzid} was read as zone ${zone}`);
  }
  return { utc: new Date(time.toUnixTime() * 1000).toISOString(), zone };
}

function readFeed(path) {
  const text = readFileSync(path, "utf8");
  ICAL.TimezoneService.reset();
  const calendar = new ICAL.Component(ICAL.parse(text));
  const timezones = [];
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
    timezones.push(vtimezone.getFirstPropertyValue("tzid"));
  }
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const start = vevent.getFirstProperty("dtstart");
    const end = vevent.getFirstProperty("dtend");
    return {
      uid: event.uid,
      recurrenceId: event.recurrenceId ? event.recurrenceId.toICALString() : "",
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      summary: event.summary,
      location: event.location,
      start: when(event.startDate, start.getParameter("tzid")),
      end: end === null ? null : when(event.endDate, end.getParameter("tzid")),
      alarms: vevent.getAllSubcomponents("valarm").map((alarm) => ({
        action: alarm.getFirstPropertyValue("action"),
        description: alarm.getFirstPropertyValue("description"),
        trigger: alarm.getFirstPropertyValue("trigger").toSeconds(),
      })),
    };
  });
  return {
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    method: calendar.getFirstPropertyValue("method"),
    timezones,
    events,
  };
}

const feeds = {};
for (const path of process.argv.slice(2)) {
  try {
    feeds[path] = readFeed(path);
  } catch (error) {
    console.error(`${path}: ical.js refused the feed: ${error.message}`);
    process.exit(1);
  }
}
console.log(JSON.stringify(feeds));
